// Where the project's shared test data lives: ../shared beside the checkout (as on the CI machines), or
// $SANDBOX_SHARED_DIR where a checkout sits elsewhere (a git worktree). Tests skip, saying so, when absent.
'use strict';
const path = require('path');

function sharedTestdata(...parts) {
  const dir = process.env.SANDBOX_SHARED_DIR || path.join(__dirname, '..', '..', '..', 'shared');
  return path.join(dir, 'testdata', ...parts);
}

module.exports = { sharedTestdata };
