from real_runs.testbed.cli import main

raise SystemExit(main())
