from pbxtui.cli import main

main()
