from real_runs.collect import main

raise SystemExit(main())
