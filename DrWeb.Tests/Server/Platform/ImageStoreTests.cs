using DrWeb.Server.Platform;
using DrWeb.Server.Platform.Database;
using DrWeb.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DrWeb.Tests.Server.Platform;

/// <summary>Both image stores keep the same promises, on both database providers.</summary>
public class ImageStoreTests(ProviderHosts hosts) : IClassFixture<ProviderHosts>
{
    public enum Kind { Folder, Database }

    private IImageStore Store(DatabaseProvider provider, Kind kind)
    {
        var host = hosts[provider];
        _ = host.Server;
        return kind == Kind.Folder
            ? new FolderImageStore(host.Services.GetRequiredService<DataFolder>())
            : new DatabaseImageStore(host.Services.GetRequiredService<IDbContextFactory<DrWebDbContext>>());
    }

    [Theory]
    [InlineData(DatabaseProvider.Sqlite, Kind.Folder)]
    [InlineData(DatabaseProvider.Sqlite, Kind.Database)]
    [PostgresData(Kind.Database)]
    public void Bytes_are_kept_once_under_their_hash_read_whole_or_streamed_listed_and_deleted(DatabaseProvider provider, Kind kind)
    {
        var store = Store(provider, kind);
        byte[] bytes = new byte[300_000];
        new Random((int)provider * 10 + (int)kind).NextBytes(bytes);
        string hash = store.Save(bytes);
        Assert.Equal(IImageStore.HashOf(bytes), hash);
        Assert.Equal(hash, store.Save(bytes));
        Assert.True(store.Contains(hash));
        Assert.Equal(bytes, store.Read(hash));
        using (var stream = store.OpenRead(hash)!)
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            Assert.Equal(bytes, copy.ToArray());
        }
        Assert.Single(store.Hashes(), h => h == hash);

        string missing = IImageStore.HashOf([1, 2, 3]);
        Assert.False(store.Contains(missing));
        Assert.Null(store.OpenRead(missing));
        Assert.Throws<FileNotFoundException>(() => store.Read(missing));
        Assert.False(store.Contains("../../etc/passwd"));
        Assert.Null(store.OpenRead("not-a-hash"));

        store.Delete(hash);
        Assert.False(store.Contains(hash));
        Assert.DoesNotContain(hash, store.Hashes());
    }
}
