from kfm_operator.cli import main

main()
