"""Using a trained model outside the sweep: the self-contained model file and prediction on media files."""
