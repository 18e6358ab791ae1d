from kisalert.cli import main

raise SystemExit(main())
