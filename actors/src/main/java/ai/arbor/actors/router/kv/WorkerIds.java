package ai.arbor.actors.router.kv;

import ai.arbor.actors.router.index.TokenBlockHasher;
import com.dynatrace.hash4j.hashing.Hashing;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The numeric id under which a worker publishes KV events and routers index it: a hash of its actor reference's
 * serialized form (address, path and incarnation uid). Worker and router compute it independently and agree, in one
 * JVM or across a cluster; a restarted worker is a new incarnation, hence a new id whose event ids start afresh.
 */
public final class WorkerIds {
    private WorkerIds() {}

    public static long of(ActorSystem<?> system, ActorRef<?> worker) {
        String form = ActorRefResolver.get(system).toSerializationFormat(worker);
        return Hashing.xxh3_64(TokenBlockHasher.SEED).hashCharsToLong(form);
    }

    /**
     * The id under which a worker with a host KV tier publishes its reachable set (blocks in its primary pool or host
     * tier): the index treats it as one more worker, so one radix walk gives both depths.
     */
    public static long reachable(long workerId) {
        return Hashing.xxh3_64(TokenBlockHasher.SEED + 1).hashLongToLong(workerId);
    }
}
