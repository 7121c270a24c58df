from tsannotate.cli import main

main()
