import sys

from hvd.cli import main

sys.exit(main())
