using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace DrWeb.Server.Data;

/// <summary>The app's one database: Identity's tables and the screening history.</summary>
public sealed class DrWebDbContext(DbContextOptions<DrWebDbContext> options) : IdentityDbContext<DrWebUser>(options)
{
    public DbSet<Case> Cases => Set<Case>();
    public DbSet<Prediction> Predictions => Set<Prediction>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.Entity<Case>(c =>
        {
            c.HasIndex(x => x.ImageHash);
            c.HasIndex(x => x.CreatedUtc);
            c.HasIndex(x => x.PatientId);
            c.Property(x => x.ImageHash).HasMaxLength(64);
            c.Property(x => x.FileName).HasMaxLength(255);
            c.Property(x => x.Format).HasMaxLength(16);
            c.Property(x => x.PatientId).HasMaxLength(64);
            c.Property(x => x.Eye).HasMaxLength(8);
            // SQLite cannot order by DateTimeOffset; store UTC ticks.
            c.Property(x => x.CreatedUtc).HasConversion(v => v.UtcTicks, v => new DateTimeOffset(v, TimeSpan.Zero));
        });
        builder.Entity<Prediction>(p =>
        {
            p.HasOne(x => x.Case).WithMany(c => c.Predictions).HasForeignKey(x => x.CaseId).OnDelete(DeleteBehavior.Cascade);
            p.HasIndex(x => x.Grade);
            p.Property(x => x.CreatedUtc).HasConversion(v => v.UtcTicks, v => new DateTimeOffset(v, TimeSpan.Zero));
            p.Ignore(x => x.Probabilities);
        });
        builder.Entity<ApiToken>(t =>
        {
            t.HasIndex(x => x.SecretHash).IsUnique();
            t.HasOne(x => x.User).WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
            t.Property(x => x.Name).HasMaxLength(100);
            t.Property(x => x.SecretHash).HasMaxLength(64);
            t.Property(x => x.CreatedUtc).HasConversion(v => v.UtcTicks, v => new DateTimeOffset(v, TimeSpan.Zero));
            t.Property(x => x.RevokedUtc).HasConversion(v => v.HasValue ? v.Value.UtcTicks : (long?)null,
                v => v.HasValue ? new DateTimeOffset(v.Value, TimeSpan.Zero) : null);
            t.Property(x => x.LastUsedUtc).HasConversion(v => v.HasValue ? v.Value.UtcTicks : (long?)null,
                v => v.HasValue ? new DateTimeOffset(v.Value, TimeSpan.Zero) : null);
        });
    }
}
