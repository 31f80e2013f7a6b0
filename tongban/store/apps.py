from django.apps import AppConfig


class StoreConfig(AppConfig):
    name = "tongban.store"
    label = "store"
    verbose_name = "通办数据"
