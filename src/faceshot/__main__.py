import sys

from faceshot.cli import main

sys.exit(main())
