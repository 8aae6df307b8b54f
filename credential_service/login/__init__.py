"""QR login for cardholders (电子社保卡扫码登录): challenges, the wallet's signed answer, and
short-lived cardholder access tokens."""
