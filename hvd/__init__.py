"""hvd: a hypervisor daemon hosting emulated BeagleBoard-xM boards under a shadow-paging monitor."""

__version__ = "0.1.0"
