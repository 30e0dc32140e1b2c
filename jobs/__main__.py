"""`python -m jobs` and spark-submit's primary file: hands over to the command line."""

import sys

from jobs.cli import main

if __name__ == "__main__":
    sys.exit(main())
