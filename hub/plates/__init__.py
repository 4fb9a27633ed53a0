"""Standard-address QR door plates (标准地址二维码门牌): printing them and the household file."""
