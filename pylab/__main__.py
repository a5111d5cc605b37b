import sys

from pylab.cli.main import main

sys.exit(main())
