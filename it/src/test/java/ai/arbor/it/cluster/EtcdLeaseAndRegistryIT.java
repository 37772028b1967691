package ai.arbor.it.cluster;

import static ai.arbor.cluster.etcd.EtcdClients.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.arbor.cluster.discovery.EtcdNodeRegistration;
import ai.arbor.cluster.discovery.NodeRecord;
import ai.arbor.cluster.etcd.EtcdClients;
import ai.arbor.cluster.etcd.EtcdKeys;
import ai.arbor.cluster.etcd.LeasedKeys;
import ai.arbor.cluster.registry.EtcdModelRegistry;
import ai.arbor.cluster.registry.ModelAvailability;
import ai.arbor.cluster.registry.ModelCard;
import ai.arbor.it.support.EtcdProcess;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.GetOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Leases, node registration and the model registry against a real etcd, including expiry and outages. */
class EtcdLeaseAndRegistryIT {
    private static EtcdProcess etcd;

    @BeforeAll
    static void startEtcd() { etcd = EtcdProcess.start(); }

    @AfterAll
    static void stopEtcd() { etcd.close(); }

    private static Client client() {
        return EtcdClients.connect(EtcdClients.parseEndpoints(etcd.endpoint()));
    }

    private static long count(Client c, String prefix) throws Exception {
        return c.getKVClient().get(bytes(prefix), GetOption.builder().isPrefix(true).build()).get(5, TimeUnit.SECONDS).getCount();
    }

    @Test
    void deadProcessKeysVanishAfterTheTtlAndCleanCloseRemovesThemAtOnce() throws Exception {
        try (Client observer = client()) {
            Client dying = client();
            LeasedKeys leased = new LeasedKeys(() -> dying, Duration.ofSeconds(2)); // never reconnects: dies with dying
            new EtcdNodeRegistration(leased, "expiry", new NodeRecord("127.0.0.1", 1, 2, 3, List.of("worker")));
            await(() -> leased.inSync(), Duration.ofSeconds(10), "registration never written");
            assertEquals(1, count(observer, EtcdKeys.nodesPrefix("expiry")));

            // Like kill -9: renewals stop, nobody revokes. The lease lapses after its TTL and etcd deletes the key.
            dying.close();
            await(() -> countQuietly(observer, EtcdKeys.nodesPrefix("expiry")) == 0, Duration.ofSeconds(10),
                    "key of a dead process outlived its lease");
            leased.close(); // stops its renewal timer, which would otherwise retry on the closed client until the JVM ends

            try (LeasedKeys clean = new LeasedKeys(EtcdLeaseAndRegistryIT::client, Duration.ofSeconds(10))) {
                new EtcdNodeRegistration(clean, "expiry", new NodeRecord("127.0.0.1", 4, 5, 0, List.of("frontend")));
                await(clean::inSync, Duration.ofSeconds(10), "registration never written");
                clean.close();
                assertEquals(0, count(observer, EtcdKeys.nodesPrefix("expiry")), "revoked lease left keys behind");
            }
        }
    }

    @Test
    void lostLeaseIsReplacedAndKeysWrittenAgain() throws Exception {
        try (Client c = client(); LeasedKeys leased = new LeasedKeys(EtcdLeaseAndRegistryIT::client, Duration.ofSeconds(3))) {
            leased.put("arbor/relost/x", "1");
            await(leased::inSync, Duration.ofSeconds(10), "key never written");
            long first = leased.leaseId();
            // Someone (or an etcd that was down longer than the TTL) ends the lease under us.
            c.getLeaseClient().revoke(first).get(5, TimeUnit.SECONDS);
            assertEquals(0, count(c, "arbor/relost/"));
            await(() -> leased.inSync() && leased.leaseId() != first && countQuietly(c, "arbor/relost/") == 1,
                    Duration.ofSeconds(10), "key not restored under a new lease");
        }
    }

    @Test
    void frontendsSeeWorkersModelsComeAndGoAndKeepTheViewThroughAnEtcdOutage() throws Exception {
        try (Client workerClient = client(); Client frontendClient = client();
             LeasedKeys worker = new LeasedKeys(EtcdLeaseAndRegistryIT::client, Duration.ofSeconds(3));
             EtcdModelRegistry frontend = new EtcdModelRegistry(frontendClient, "models")) {
            EtcdModelRegistry publisher = new EtcdModelRegistry(workerClient, "models");
            frontend.startWatching(Duration.ofSeconds(2));
            assertEquals(ModelAvailability.UNKNOWN, frontend.availability("tiny"));

            publisher.publish(worker, ModelCard.starting("tiny", "127.0.0.1:25521"));
            await(() -> frontend.availability("tiny") == ModelAvailability.STARTING, Duration.ofSeconds(10), "starting card not seen");
            assertEquals(List.of(), frontend.readyModels());

            ModelCard ready = new ModelCard("tiny", 16, 512, 2048, "127.0.0.1:25521", ModelCard.Status.READY);
            publisher.publish(worker, ready);
            await(() -> frontend.availability("tiny") == ModelAvailability.READY, Duration.ofSeconds(10), "ready card not seen");
            assertEquals(List.of("tiny"), frontend.readyModels());
            assertEquals(List.of(ready), frontend.cards());

            // etcd goes away: the frontend keeps what it knew (the cluster keeps serving), and catches up after.
            etcd.kill();
            Thread.sleep(4000);
            assertEquals(List.of("tiny"), frontend.readyModels());
            etcd.startAgain();

            publisher.withdraw(worker, "tiny", "127.0.0.1:25521");
            await(() -> frontend.availability("tiny") == ModelAvailability.UNKNOWN, Duration.ofSeconds(20),
                    "withdrawn card still visible after etcd came back");
        }
    }

    private static long countQuietly(Client c, String prefix) {
        try {
            return count(c, prefix);
        } catch (Exception e) {
            return -1;
        }
    }

    static void await(BooleanSupplier condition, Duration timeout, String message) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) return;
            Thread.sleep(100);
        }
        assertTrue(condition.getAsBoolean(), message);
    }
}
