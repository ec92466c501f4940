from gvrs.cli import main

main()
