"""smbsim-report: charts and an HTML report of an smbsim result file (cli.py says how)."""
