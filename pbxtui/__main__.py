from pbxtui.program import run

run()
