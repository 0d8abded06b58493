from django.apps import AppConfig


class PeerSupportConfig(AppConfig):
    name = "peersupport"
    verbose_name = "Peer support platform"

    def ready(self) -> None:
        from . import pagecache

        pagecache.install()
