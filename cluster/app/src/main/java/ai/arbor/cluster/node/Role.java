package ai.arbor.cluster.node;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** What a node does: a frontend serves the HTTP API and routes, a worker runs an engine. A node may be both. */
public enum Role {
    FRONTEND, WORKER;

    public String pekkoRole() { return name().toLowerCase(Locale.ROOT); }

    /** Parses {@code frontend|worker|frontend,worker}, naming the bad part on error. */
    public static Set<Role> parse(String roles) {
        EnumSet<Role> out = EnumSet.noneOf(Role.class);
        for (String part : roles.split(",")) {
            String r = part.trim().toLowerCase(Locale.ROOT);
            if (r.isEmpty()) continue;
            switch (r) {
                case "frontend" -> out.add(FRONTEND);
                case "worker" -> out.add(WORKER);
                default -> throw new IllegalArgumentException("unknown role '" + part.trim() + "' in '" + roles
                        + "': expected frontend, worker or frontend,worker");
            }
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no roles given: expected frontend, worker or frontend,worker");
        return out;
    }
}
