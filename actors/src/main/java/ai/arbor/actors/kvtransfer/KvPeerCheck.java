package ai.arbor.actors.kvtransfer;

import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Who may exchange KV blocks with a worker, on top of the handshake's check that the peer's certificate chains to the
 * cluster's CA: the peer's certificate must share a subject name (common name, DNS or IP alternative name) with this
 * node's own, as Pekko remoting's rotating-keys provider requires of its peers. So a certificate the same CA issued
 * for something else (a frontend's HTTPS, a NATS client) does not open the data plane.
 */
final class KvPeerCheck {
    private KvPeerCheck() {}

    static void sameCluster(SSLSession session) throws SSLPeerUnverifiedException {
        Certificate[] mine = session.getLocalCertificates();
        Certificate[] theirs = session.getPeerCertificates();
        if (mine == null || mine.length == 0) throw new SSLPeerUnverifiedException("this node presented no certificate");
        Set<String> ours = names(mine[0]);
        Set<String> peers = names(theirs[0]);
        for (String n : peers) {
            if (ours.contains(n)) return;
        }
        throw new SSLPeerUnverifiedException("the peer's certificate names " + peers
                + " share none with this node's " + ours);
    }

    private static Set<String> names(Certificate c) throws SSLPeerUnverifiedException {
        if (!(c instanceof X509Certificate x)) throw new SSLPeerUnverifiedException("not an X.509 certificate");
        Set<String> names = new HashSet<>();
        try {
            for (Rdn rdn : new LdapName(x.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) names.add(rdn.getValue().toString().toLowerCase(Locale.ROOT));
            }
            if (x.getSubjectAlternativeNames() != null) {
                for (List<?> san : x.getSubjectAlternativeNames()) {
                    int type = (Integer) san.get(0);
                    if (type == 2 || type == 7) names.add(san.get(1).toString().toLowerCase(Locale.ROOT));
                }
            }
        } catch (InvalidNameException | CertificateParsingException e) {
            throw new SSLPeerUnverifiedException("unreadable certificate names: " + e.getMessage());
        }
        return names;
    }
}
