BANNED = "frobnicate"
SHRUG = "¯\\_(ツ)_/¯"
