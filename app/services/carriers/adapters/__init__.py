"""One thin adapter per carrier API behind one interface (``base.Adapter``)."""

from __future__ import annotations

from app.services.carriers.adapters.base import Account, Adapter


def adapter_class(api: str) -> type[Adapter]:
    from app.services.carriers.adapters.dhl import DhlAdapter
    from app.services.carriers.adapters.fedex import FedexAdapter
    from app.services.carriers.adapters.ups import UpsAdapter
    from app.services.carriers.adapters.usps import UspsAdapter

    classes: dict[str, type[Adapter]] = {"ups": UpsAdapter, "fedex": FedexAdapter, "dhl": DhlAdapter,
                                         "usps": UspsAdapter, "sandbox": FedexAdapter}
    try:
        return classes[api.lower()]
    except KeyError:
        raise ValueError(f"carrier api: '{api}' is not one of ups, fedex, dhl, usps, sandbox") from None


__all__ = ["Account", "Adapter", "adapter_class"]
