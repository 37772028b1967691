package ai.arbor.actors.kvtransfer;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

/** A kept TLS connection is reused only while the PEM files it was made with are still the newest. */
class KvTransportTest {
    @Test
    void aConnectionMadeBeforeARotationIsNotCurrentAfterIt() throws Exception {
        AtomicReference<SSLContext> files = new AtomicReference<>(SSLContext.getInstance("TLS"));
        KvTransport transport = KvTransport.mutualTls(files::get);
        try (KvChannel before = transport.open()) {
            assertTrue(transport.isCurrent(before));
            files.set(SSLContext.getInstance("TLS")); // PemTls rebuilt its context: the files changed
            assertFalse(transport.isCurrent(before), "a connection with the old certificate would be reused");
            try (KvChannel after = transport.open()) {
                assertTrue(transport.isCurrent(after));
            }
        }
        try (KvChannel plain = KvTransport.plain().open()) {
            assertTrue(KvTransport.plain().isCurrent(plain));
        }
    }
}
