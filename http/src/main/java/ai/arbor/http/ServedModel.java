package ai.arbor.http;

import ai.arbor.actors.frontend.Frontend;

/**
 * One model this frontend serves: its API name, its frontend (tokenizer + router), its context length and its
 * sampling defaults.
 */
public record ServedModel(String name, Frontend frontend, int maxModelLen, SamplingDefaults defaults, long createdEpochSeconds) {}
