using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace DrWeb.Server.Platform.Database.Migrations
{
    /// <inheritdoc />
    public partial class ModelRegistry : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "BaseCheckpoints",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Architecture = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    OriginalName = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Location = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    Sha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    SizeBytes = table.Column<long>(type: "INTEGER", nullable: false),
                    LoadedTensors = table.Column<int>(type: "INTEGER", nullable: false),
                    LoaderReport = table.Column<string>(type: "TEXT", nullable: false),
                    ImportedUtc = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_BaseCheckpoints", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ModelVersions",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Location = table.Column<string>(type: "TEXT", maxLength: 500, nullable: false),
                    Source = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Architecture = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Head = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    TrainablePolicy = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Preprocessing = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    BaseWeights = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    DataFingerprint = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    Label = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    CreatedUtc = table.Column<long>(type: "INTEGER", nullable: false),
                    RegisteredUtc = table.Column<long>(type: "INTEGER", nullable: false),
                    TrainImages = table.Column<int>(type: "INTEGER", nullable: false),
                    ValidationImages = table.Column<int>(type: "INTEGER", nullable: false),
                    ReferableAuc = table.Column<double>(type: "REAL", nullable: true),
                    Sensitivity = table.Column<double>(type: "REAL", nullable: true),
                    Specificity = table.Column<double>(type: "REAL", nullable: true),
                    Accuracy = table.Column<double>(type: "REAL", nullable: true),
                    Kappa = table.Column<double>(type: "REAL", nullable: true),
                    Device = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    TrainingSeconds = table.Column<double>(type: "REAL", nullable: false),
                    IsActive = table.Column<bool>(type: "INTEGER", nullable: false),
                    ActivatedUtc = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ModelVersions", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_BaseCheckpoints_Sha256_Architecture",
                table: "BaseCheckpoints",
                columns: new[] { "Sha256", "Architecture" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ModelVersions_Name",
                table: "ModelVersions",
                column: "Name",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "BaseCheckpoints");

            migrationBuilder.DropTable(
                name: "ModelVersions");
        }
    }
}
