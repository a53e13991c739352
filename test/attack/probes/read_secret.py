# A file under the real home (argv[1]) that no option bound: by its host path and by $HOME.
import os, sys
from _probe import attempt
secret = sys.argv[1]
attempt('secret_direct', lambda: open(secret).read())
attempt('secret_via_home', lambda: open(os.path.join(os.environ['HOME'], os.path.basename(secret))).read())
attempt('secret_dir_list', lambda: os.listdir(os.path.dirname(secret) + '/secret-dir'))
