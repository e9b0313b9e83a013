import sys

from clinic_app.cli import main

sys.exit(main())
