from tsannotate.entry import main

main()
