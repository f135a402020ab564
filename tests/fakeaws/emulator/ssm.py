"""SSM (placeholder)."""


class SSM(object):
    def __init__(self, app):
        self.app = app
        self.handlers = {}

    def state(self, account, region):
        return {}
