{#- Every version of the source's rows ever staged, normalised once (as_of-free part; macros/staging_versions.sql) -#}
{{ versions_model(source('vaccination', 'doi_tuong'), stg_vaccination__doi_tuong_version('versions_source'), 'vaccination', 'doi_tuong') }}  -- noqa: PRS
