"""The public side: the snippet, its configuration, consent recording and visitor rights."""
