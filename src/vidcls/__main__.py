from vidcls.cli import main

main()
