package ai.arbor.actors.router.snapshot;

import java.util.Optional;

/** Where router replicas keep index snapshots so that a restarted one need not replay the whole stream. */
public interface IndexSnapshotStore {
    void save(String model, IndexSnapshot snapshot);

    Optional<IndexSnapshot> load(String model);

    /** {@code --router-reset-states}. */
    void delete(String model);
}
