SMALL = dict(backbone="resnet34", attn_dim=64, attn_heads=2, adapt_dim=32, num_classes=4, dropout=0.0, attn_dropout=0.0)
# The cheapest real model (ResNet-18 trunks) for tests of semantics rather than of the ResNet-34 build.
TINY = {**SMALL, "backbone": "resnet18", "attn_dim": 32, "adapt_dim": 16}
