from pbxtui.cli import run

run()
