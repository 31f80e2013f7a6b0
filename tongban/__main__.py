from tongban.cli.main import main

main()
