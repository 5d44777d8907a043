"""The Twilio seam: webhook forms parsed into typed values, the TwiML renderer and the REST
client. The only modules that import twilio (with the signature check in voice.webhooks)."""
