{#- Every version of the source's rows ever staged, normalised once (as_of-free part; macros/staging_versions.sql) -#}
{{ versions_model(source('civil', 'ho_tich'), stg_civil__ho_tich_version('versions_source'), 'civil', 'ho_tich') }}  -- noqa: PRS
