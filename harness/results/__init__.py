"""The results directory of an experiment: its columns (`columns`), reading and writing (`io`), env.json (`envinfo`)."""
