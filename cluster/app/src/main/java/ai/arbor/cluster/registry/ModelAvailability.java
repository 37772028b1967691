package ai.arbor.cluster.registry;

/** What a frontend can say about a model name: some worker serves it, one is loading it, or none has it (404). */
public enum ModelAvailability { READY, STARTING, UNKNOWN }
