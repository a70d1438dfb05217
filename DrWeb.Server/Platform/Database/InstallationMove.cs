using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace DrWeb.Server.Platform.Database;

/// <summary>One table's rows, or the images, before and after a move.</summary>
public sealed record MovedCount(string What, long Source, long Target)
{
    public bool Matches => Source == Target;
}

/// <summary>
/// Copies a whole installation (every table, keys included, and every image) into another database and image store,
/// then checks it: row counts per table, and every image read back from the target hashes to its name. The target must
/// be empty, so that nothing already there is overwritten or mixed in. Hangfire's own tables are not copied: queued jobs
/// are transient, and training runs left queued are re-queued from their rows by the Training page.
/// </summary>
public static class InstallationMove
{
    private const int Batch = 500;

    public static async Task<IReadOnlyList<MovedCount>> CopyAsync(IDbContextFactory<DrWebDbContext> source, IImageStore sourceImages,
        IDbContextFactory<DrWebDbContext> target, IImageStore targetImages, TextWriter log, CancellationToken token = default)
    {
        await using (var db = await target.CreateDbContextAsync(token))
        {
            DrWebDatabase.Migrate(db);
            if (await db.Users.AnyAsync(token) || await db.Cases.AnyAsync(token) || await db.ModelVersions.AnyAsync(token))
                throw new InvalidOperationException("The target database already holds users, cases or models. Move into a new, empty database.");
        }

        var counts = new List<MovedCount>();
        IReadOnlyList<IEntityType> types;
        await using (var db = await source.CreateDbContextAsync(token))
            types = InsertionOrder(db.Model);
        foreach (var type in types)
        {
            var copy = typeof(InstallationMove).GetMethod(nameof(CopyTableAsync), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type.ClrType);
            long copied = await (Task<long>)copy.Invoke(null, [source, target, token])!;
            long inTarget;
            await using (var db = await target.CreateDbContextAsync(token))
                inTarget = await CountAsync(db, type.ClrType, token);
            counts.Add(new MovedCount(type.GetTableName() ?? type.ClrType.Name, copied, inTarget));
            log.WriteLine($"  {type.GetTableName(),-28} {copied,8} rows");
        }
        await using (var db = await target.CreateDbContextAsync(token))
            if (db.Database.IsNpgsql())
                await ResetIdentitySequencesAsync(db, token);

        long sourceImageCount = 0, verified = 0;
        foreach (string hash in sourceImages.Hashes())
        {
            token.ThrowIfCancellationRequested();
            sourceImageCount++;
            byte[] bytes = sourceImages.Read(hash);
            if (IImageStore.HashOf(bytes) != hash)
                throw new InvalidDataException($"The source image {hash} does not match its hash: the source store is damaged.");
            targetImages.Save(bytes);
            if (IImageStore.HashOf(targetImages.Read(hash)) == hash) verified++;
        }
        counts.Add(new MovedCount("images (hash-checked)", sourceImageCount, verified));
        log.WriteLine($"  {"images",-28} {sourceImageCount,8} copied, {verified} read back with matching SHA-256");
        return counts;
    }

    private static async Task<long> CopyTableAsync<T>(IDbContextFactory<DrWebDbContext> source, IDbContextFactory<DrWebDbContext> target,
        CancellationToken token) where T : class
    {
        await using var from = await source.CreateDbContextAsync(token);
        await using var to = await target.CreateDbContextAsync(token);
        to.ChangeTracker.AutoDetectChangesEnabled = false;
        long copied = 0;
        // Image rows carry their bytes: one at a time keeps memory bounded whatever the images weigh.
        int size = typeof(T) == typeof(StoredImage) ? 1 : Batch;
        var batch = new List<T>(size);
        await foreach (var row in from.Set<T>().AsNoTracking().AsAsyncEnumerable().WithCancellation(token))
        {
            batch.Add(row);
            if (batch.Count == size) copied += await SaveAsync(to, batch, token);
        }
        copied += await SaveAsync(to, batch, token);
        return copied;
    }

    private static async Task<long> SaveAsync<T>(DrWebDbContext to, List<T> batch, CancellationToken token) where T : class
    {
        if (batch.Count == 0) return 0;
        to.Set<T>().AddRange(batch);
        await to.SaveChangesAsync(token);
        to.ChangeTracker.Clear();
        int n = batch.Count;
        batch.Clear();
        return n;
    }

    private static Task<long> CountAsync(DrWebDbContext db, Type type, CancellationToken token)
    {
        var count = typeof(InstallationMove).GetMethod(nameof(CountOfAsync), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type);
        return (Task<long>)count.Invoke(null, [db, token])!;
    }

    private static Task<long> CountOfAsync<T>(DrWebDbContext db, CancellationToken token) where T : class => db.Set<T>().LongCountAsync(token);

    /// <summary>Principals before dependents, so every foreign key finds its row.</summary>
    internal static IReadOnlyList<IEntityType> InsertionOrder(IModel model)
    {
        var types = model.GetEntityTypes().Where(t => !t.IsOwned() && t.GetTableName() is not null).ToList();
        var ordered = new List<IEntityType>();
        var placed = new HashSet<IEntityType>();
        while (ordered.Count < types.Count)
        {
            var ready = types.Where(t => !placed.Contains(t) && t.GetForeignKeys()
                .All(fk => fk.PrincipalEntityType == t || placed.Contains(fk.PrincipalEntityType))).OrderBy(t => t.GetTableName()).ToList();
            if (ready.Count == 0) throw new InvalidOperationException("The model's foreign keys form a cycle; it cannot be copied table by table.");
            ordered.AddRange(ready);
            placed.UnionWith(ready);
        }
        return ordered;
    }

    /// <summary>Rows were inserted with their keys, so each identity column's sequence must continue after the largest.</summary>
    private static async Task ResetIdentitySequencesAsync(DrWebDbContext db, CancellationToken token)
    {
        foreach (var type in db.Model.GetEntityTypes())
        {
            if (type.FindPrimaryKey() is not { Properties: [{ } key] } || key.ClrType != typeof(int) && key.ClrType != typeof(long)) continue;
            if (key.ValueGenerated == Microsoft.EntityFrameworkCore.Metadata.ValueGenerated.Never) continue;
            string table = type.GetTableName()!;
            string column = key.GetColumnName();
#pragma warning disable EF1002 // names come from the model, not from input
            await db.Database.ExecuteSqlRawAsync(
                $"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), GREATEST(COALESCE((SELECT MAX(\"{column}\") FROM \"{table}\"), 0), 1), (SELECT COUNT(*) FROM \"{table}\") > 0)", token);
#pragma warning restore EF1002
        }
    }
}
