using DrWeb.Server.Platform.Database;

namespace DrWeb.Tests.Support;

/// <summary>
/// One host per database provider, made when a test first asks for it: a test class whose facts are theories over
/// <see cref="SqliteDataAttribute"/> and <see cref="PostgresDataAttribute"/> runs the same assertions on both.
/// </summary>
public abstract class PerProvider<T>(Func<DatabaseProvider, T> make) : IDisposable where T : IDisposable
{
    private readonly Dictionary<DatabaseProvider, T> _hosts = [];
    private readonly Lock _gate = new();

    public T this[DatabaseProvider provider]
    {
        get
        {
            lock (_gate)
            {
                if (!_hosts.TryGetValue(provider, out var host))
                    _hosts[provider] = host = make(provider);
                return host;
            }
        }
    }

    public void Dispose()
    {
        foreach (var host in _hosts.Values) host.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>The app in a test host, per provider.</summary>
public sealed class ProviderHosts() : PerProvider<DrWebFactory>(DrWebFactory.On);
