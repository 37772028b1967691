package ai.arbor.actors;

/**
 * Marker for messages that may cross nodes: a cluster node binds it to Pekko's Jackson CBOR serializer. Protocol
 * records sent between frontends and workers (and the actor refs inside them) implement it.
 */
public interface CborSerializable {}
