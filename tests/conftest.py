import pathlib
import sys

# Make the pure-Python references in this folder importable as plain modules.
sys.path.insert(0, str(pathlib.Path(__file__).parent))
