package ai.arbor.http;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** The models a frontend serves, by name. In a cluster, models are added and removed as workers come and go. */
public final class ModelRegistry {
    private final Map<String, ServedModel> models = new ConcurrentHashMap<>();

    public void add(ServedModel model) { models.put(model.name(), model); }

    public void remove(String name) { models.remove(name); }

    public Optional<ServedModel> get(String name) { return Optional.ofNullable(models.get(name)); }

    public Collection<ServedModel> all() { return List.copyOf(models.values()); }
}
