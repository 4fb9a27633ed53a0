"""Face stage: motion gate → detection → tracking → encoding once per track → local match."""
