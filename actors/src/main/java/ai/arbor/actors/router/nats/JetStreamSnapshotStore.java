package ai.arbor.actors.router.nats;

import ai.arbor.actors.kvevents.KvSubjects;
import ai.arbor.actors.router.snapshot.IndexSnapshot;
import ai.arbor.actors.router.snapshot.IndexSnapshotStore;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.ObjectStore;
import io.nats.client.api.ObjectInfo;
import io.nats.client.api.ObjectStoreConfiguration;
import io.nats.client.api.StorageType;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;

/**
 * Snapshots in a JetStream object store bucket (chunked, so an index of any size fits), one object per model. Every
 * replica may save; each save is a whole, consistent snapshot, so the last one wins.
 */
public final class JetStreamSnapshotStore implements IndexSnapshotStore {
    private final ObjectStore store;

    public JetStreamSnapshotStore(Connection nc, String bucket) {
        try {
            var osm = nc.objectStoreManagement();
            if (!osm.getBucketNames().contains(bucket)) {
                osm.create(ObjectStoreConfiguration.builder(bucket).storageType(StorageType.File).build());
            }
            this.store = nc.objectStore(bucket);
        } catch (IOException | JetStreamApiException e) {
            throw new IllegalStateException("cannot open JetStream object store '" + bucket + "' for router snapshots: " + e.getMessage(), e);
        }
    }

    @Override
    public void save(String model, IndexSnapshot snapshot) {
        try {
            store.put(KvSubjects.modelToken(model), snapshot.toBytes());
        } catch (IOException | JetStreamApiException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot save router snapshot of model '" + model + "': " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<IndexSnapshot> load(String model) {
        try {
            ObjectInfo info = store.getInfo(KvSubjects.modelToken(model));
            if (info == null || info.isDeleted()) return Optional.empty();
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 64, info.getSize()));
            store.get(KvSubjects.modelToken(model), out);
            return Optional.of(IndexSnapshot.fromBytes(out.toByteArray()));
        } catch (IOException | JetStreamApiException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot load router snapshot of model '" + model + "': " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted loading router snapshot of model '" + model + "'", e);
        }
    }

    @Override
    public void delete(String model) {
        try {
            ObjectInfo info = store.getInfo(KvSubjects.modelToken(model));
            if (info != null && !info.isDeleted()) store.delete(KvSubjects.modelToken(model));
        } catch (IOException | JetStreamApiException e) {
            throw new IllegalStateException("cannot delete router snapshot of model '" + model + "': " + e.getMessage(), e);
        }
    }
}
