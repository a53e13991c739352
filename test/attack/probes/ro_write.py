# Write through read-only binds: system files, the probes' own directory, a chmod, a directory in the root.
import os, sys
from _probe import attempt, write_file
attempt('write_usr_bin', lambda: write_file('/usr/bin/sbx-attack', 'x', os.O_WRONLY | os.O_CREAT))
attempt('append_etc_passwd', lambda: write_file('/etc/passwd', 'x', os.O_WRONLY | os.O_APPEND))
attempt('write_probe_dir', lambda: write_file(os.path.dirname(os.path.abspath(__file__)) + '/planted', 'x', os.O_WRONLY | os.O_CREAT))
attempt('chmod_usr_bin_sh', lambda: os.chmod('/usr/bin/sh', 0o777))
attempt('mkdir_root', lambda: os.mkdir('/newdir'))
