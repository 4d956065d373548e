"""Streaming: news documents and alerts through NATS JetStream or Kafka (docs/streaming.md)."""
