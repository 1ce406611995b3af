"""rootwatch's CDK app: typed config (config.py) and one stack built from a construct per concern."""
